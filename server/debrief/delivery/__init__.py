"""Delivery: reminders and messages to teams by email and webhooks, sent exactly once.

keys.py names records and indexes; outbox.py keeps deliveries and their leases;
worker.py sends them (senders.py) with each team's channel settings (channels.py);
signing.py signs the generic JSON webhook.
"""
