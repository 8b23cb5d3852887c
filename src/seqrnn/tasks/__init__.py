"""Training tasks: each supplies its data preparation, its model and its loop Task
(a `base.TaskSpec`); `base` holds the one start/resume recipe they share."""
