"""Studies of what recurrent networks do, run and read apart from training.

`gradients` measures vanishing and exploding gradients through time; `inspect_cells`
finds the cells of a trained language model that track a feature a reader can see, and
`inspect_page` draws them as a page.
"""
