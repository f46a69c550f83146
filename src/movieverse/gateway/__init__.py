"""The edge: the route table, the all-in-one app, and (later) nginx config rendering."""
