"""Pure domain code: data types, states, policies and format encoding. No I/O here."""
