"""Celery tasks: each takes ids (or nothing), loads what it needs and calls one
domain function, so running it twice does no harm."""

from celery import shared_task

from helpdesk import invitations, routing


@shared_task
def purge_expired_invitations() -> int:
    return invitations.purge_expired_invitations()


@shared_task
def route_case(case_id: int) -> int | None:
    return routing.route_case(case_id)


@shared_task
def sweep_routing() -> int:
    return routing.sweep()
