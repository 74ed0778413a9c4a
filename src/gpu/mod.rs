//! NVIDIA GPUs through NVML, and a simulated source for hosts without one.

pub mod cli;
