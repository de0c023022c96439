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
    first_worker: int = 1  # the employer's fictional workers are numbered from here (unique across employers)


PROVIDER_STAFF = (
    Person("admin", Role.provider_admin, f"admin@{PROVIDER_DOMAIN}", "Pat Placeholder (demo OH admin)"),
    Person("nurse", Role.clinician, f"nurse@{PROVIDER_DOMAIN}", "Nia Notreal (demo OH nurse)"),
    Person("doctor", Role.clinician, f"doctor@{PROVIDER_DOMAIN}", "Dr Dev Madeup (demo OH physician)"),
)


def _employer_people(
    domain: str,
    surname: str,
    employees: tuple[str, str, str] = ("Alex Example", "Robin Sample", "Jordan Placeholder"),
) -> tuple[Person, ...]:
    """HR, two managers and three employees (two in Operations, one in the Office)."""
    first, second, third = ((name, name.lower().replace(" ", ".")) for name in employees)
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
        Person("emp1", Role.employee, f"{first[1]}@{domain}", first[0], "Operations"),
        Person("emp2", Role.employee, f"{second[1]}@{domain}", second[0], "Operations"),
        Person("emp3", Role.employee, f"{third[1]}@{domain}", third[0], "Office"),
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
        _employer_people(
            "imaginary-bakery.example", "Crumb", ("Casey Example", "Sam Sample", "Riley Placeholder")
        ),
        first_worker=501,
    ),
)
