"""Learning across reviews: facts, insights, recurring themes, friction, briefs (pure)."""
