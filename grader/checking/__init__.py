"""The check runtime: pytest driven in the trusted parent, the learner session (`sub`), submission
loading, notebooks, forbidden-API analysis, feedback helpers and the results model."""

from __future__ import annotations
