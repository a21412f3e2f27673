from django.core.servers.basehttp import WSGIServer

# Django's test server listens with a backlog of 10 connections; the bursts in
# test_concurrency.py open 50 at once, as a production server (gunicorn: 2048) allows.
WSGIServer.request_queue_size = 128
