"""Who the demo is about: one occupational-health provider's staff and two client employers'
staff, all invented. E-mails use ``.example`` domains; the password is printed by ``ohconnect demo``.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.auth.schemas import Role

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - printed for the demo's fictional users
PROVIDER_NAME = "Demo Occupational Health (fictional)"
PROVIDER_DOMAIN = "demo-oh.example"
CLINIC_ADDRESS = "Demo OH Centre, 1 Example Street, Nowhere Town (fictional)"


@dataclass(frozen=True)
class Person:
    key: str
    role: Role
    email: str
    name: str
    department: str | None = None


@dataclass(frozen=True)
class Employer:
    name: str
    domain: str
    site: str
    people: tuple[Person, ...]


PROVIDER_STAFF = (
    Person("admin", Role.provider_admin, f"admin@{PROVIDER_DOMAIN}", "Pat Placeholder (demo OH admin)"),
    Person("nurse", Role.clinician, f"nurse@{PROVIDER_DOMAIN}", "Nia Notreal (demo OH nurse)"),
    Person("doctor", Role.clinician, f"doctor@{PROVIDER_DOMAIN}", "Dr Dev Madeup (demo OH physician)"),
)


def _employer_people(domain: str, surname: str) -> tuple[Person, ...]:
    return (
        Person("hr", Role.client_admin, f"hr@{domain}", f"Harper {surname} (demo HR)"),
        Person(
            "mgr_ops", Role.manager, f"ops.manager@{domain}", f"Morgan {surname} (demo manager)", "Operations"
        ),
        Person(
            "mgr_office",
            Role.manager,
            f"office.manager@{domain}",
            f"Quinn {surname} (demo manager)",
            "Office",
        ),
        Person("emp1", Role.employee, f"alex.example@{domain}", "Alex Example", "Operations"),
        Person("emp2", Role.employee, f"robin.sample@{domain}", "Robin Sample", "Operations"),
        Person("emp3", Role.employee, f"jordan.placeholder@{domain}", "Jordan Placeholder", "Office"),
    )


EMPLOYERS = (
    Employer(
        "Fictional Freight Ltd (demo)",
        "fictional-freight.example",
        "Nowhere Depot",
        _employer_people("fictional-freight.example", "Freightly"),
    ),
    Employer(
        "Imaginary Bakery Co (demo)",
        "imaginary-bakery.example",
        "Make-Believe Bakehouse",
        _employer_people("imaginary-bakery.example", "Crumb"),
    ),
)
