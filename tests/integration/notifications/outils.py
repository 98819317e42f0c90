"""Point a territoire at the fake SMS provider, as an admin would configure a real one."""

from __future__ import annotations

from typing import Any

from notifications.tables import ParametresNotification

CLES = {"smsfactor": "RDV_SMS_TEST_SMSFACTOR_CLE", "brevo": "RDV_SMS_TEST_BREVO_CLE"}


async def configurer_sms(territoire: Any, url: str, fournisseur: str = "smsfactor") -> None:
    await ParametresNotification(
        territoire=territoire.id,
        expediteur="CD99",
        fournisseur_sms=fournisseur,
        cle_sms_env=CLES[fournisseur],
        secret_webhook_env="RDV_SMS_TEST_WEBHOOK_SECRET",
        url_sms=url,
    ).save()
