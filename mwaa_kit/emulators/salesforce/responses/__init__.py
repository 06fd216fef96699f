"""The stub's responses, one module per API (as moto's responses are): each reads a
request, asks the models, and renders Salesforce's wire format. urls.py routes to them."""
