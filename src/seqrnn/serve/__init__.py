"""`seqrnn serve`: a web page and JSON API over a trained sentiment classifier and language model.

    from seqrnn.serve.app import create_app
    app = create_app(sentiment_dir="runs/imdb", charlm_dir="runs/hamlet")

`seqrnn.serve.app` needs the `serve` extra (FastAPI and uvicorn): pip install 'seqrnn[serve]'.
This package itself imports neither, so the CLI can build its parser without them; its limits
are `seqrnn.configs.ServeLimits`.
"""
