"""One module per verb that trains, scores or converts (the API in lsm_edge/api.py calls them).

A verb imports the core (lsm_edge/core/) and the layers below it, never another verb."""
