"""Reviews: ratings, reviews, likes, comments and their moderation."""
