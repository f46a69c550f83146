"""The movies service: the catalog's movies, browsing and discovery (``/movies``, ``/discover``,
``/trending``, ``/find``)."""
