"""GraphQL enums of the kernel's closed sets, shared by every app's schema."""
from api.scalars import domain_enum
from kernel import deadlines

Light = domain_enum("Light", deadlines.Light,
                    "审批时限灯 Deadline light of a pending step: green, yellow after two thirds of the time, red "
                    "when overdue (PRC working days).")
