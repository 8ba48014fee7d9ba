"""Exchange with partner administrations: instance identity, agreements, keyed pseudonyms, SD-JWT
selective disclosure, packages (JWS in JWE) over mutual TLS, k-anonymous statistics, witnessing."""
