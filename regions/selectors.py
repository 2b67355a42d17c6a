"""Read access to regions, jurisdictions and agencies. Geography and agency directories are
reference data that every signed-in principal may read; private data is scoped elsewhere."""
from exchange.errors import NotFound
from regions.models import Agency, Jurisdiction, Region
from regions.permissions import get_principal


def regions_for(user):
    get_principal(user)
    return Region.objects.all()


def jurisdictions_for(user):
    get_principal(user)
    return Jurisdiction.objects.select_related("parent").defer("boundary")


def agencies_for(user):
    get_principal(user)
    return Agency.objects.select_related("jurisdiction").prefetch_related("headcounts")


def jurisdiction_by_code(user, code):
    jurisdiction = jurisdictions_for(user).filter(code=code).first()
    if jurisdiction is None:
        raise NotFound(f"No jurisdiction with code {code}.", field="code")
    return jurisdiction
