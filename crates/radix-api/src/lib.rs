//! Typed models of the Radix Gateway, Core and System API answers this project uses.
