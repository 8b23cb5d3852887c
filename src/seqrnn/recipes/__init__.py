"""Training recipes, one per kind: its data preparation, its model and the objective the
training loop optimises (a `base.Recipe`); `base` holds the one start/resume recipe they share."""
