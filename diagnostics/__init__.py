"""parkscan.diagnostics: the screening (findings, indicators, ranking, report, batch, CLI)."""
