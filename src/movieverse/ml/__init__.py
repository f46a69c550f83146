"""MovieVerse-AI: recommenders, their offline evaluation, model artifacts and review sentiment.

Everything here is plain computation on arrays (numpy, scipy sparse); the ``ai`` and
``recommendations`` services wrap it with storage, events and HTTP. The evaluation protocols
reproduce published benchmarks so that our figures can be set beside theirs.
"""
