//! The integration suite, one test binary so that the kernels are compiled once for all of it:
//! property tests of every reduction, accuracy against exact answers, determinism.

mod accuracy;
mod arg;
mod average;
mod broadcast;
mod common;
mod counts;
mod determinism;
mod inlining;
mod interop;
mod minmax;
mod partials;
mod prod;
mod properties;
mod ptp;
mod select;
