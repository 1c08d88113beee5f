"""Celery tasks: each takes ids (or nothing), loads what it needs and calls one
domain function, so running it twice does no harm."""

from celery import shared_task

from helpdesk import invitations


@shared_task
def purge_expired_invitations() -> int:
    return invitations.purge_expired_invitations()
