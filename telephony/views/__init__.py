"""Dashboard pages, the call-history API and the simulation panel of the numbers app."""
