"""The recommenders. Each learns from a :class:`~movieverse.ml.interactions.Matrix` and scores
users given as rows of interactions in that matrix's item space, so a user the model never saw
(or one who just rated more movies) is scored from their history without retraining."""
