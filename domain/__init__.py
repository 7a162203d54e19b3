"""The rules of 党员联户, pure: no I/O, no database, no web. Every other layer may use it; it uses none of them."""
