"""GraphQL door of the performance evaluation: indicator sets, frozen evaluations with their league
table and facts, objections; mutations to freeze, publish, object, decide and grant an evaluator."""
import graphene

from api.connection import CountableConnection, PagedConnectionField
from api.errors import DomainMutation, decode_id
from api.scalars import Money, domain_enum
from api.scoped import ScopedObjectType
from evaluation import selectors, services
from evaluation.models import Cycle, Evaluation, Indicator, IndicatorSet, Objection
from kernel.errors import NotFound
from regions.models import Region
from regions.services.roles import find_user

EvaluationCycle = domain_enum("EvaluationCycle", Cycle, "评估周期 Evaluation cycle.")
IndicatorDirection = domain_enum("IndicatorDirection", Indicator.Direction, "指标方向 Which way is better.")
ObjectionDecision = domain_enum("ObjectionDecision", Objection.Decision, "异议处理结果 Decision on an objection.")


def _text(value):
    return None if value is None else str(value)


class IndicatorType(graphene.ObjectType):
    class Meta:
        name = "Indicator"

    code = graphene.String(required=True)
    name_zh = graphene.String(required=True)
    name_en = graphene.String(required=True)
    definition_zh = graphene.String(required=True)
    definition_en = graphene.String(required=True)
    formula = graphene.String(required=True, description="Arithmetic over fact codes.")
    unit = graphene.String(required=True)
    direction = graphene.Field(IndicatorDirection, required=True)
    weight = graphene.Decimal(required=True)
    target = graphene.Decimal()


class IndicatorSetType(ScopedObjectType):
    class Meta:
        model = IndicatorSet
        name = "IndicatorSet"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "version", "effective_from", "title", "source", "objection_working_days")
        filter_fields = []

    cycle = graphene.Field(EvaluationCycle, required=True)
    indicators = graphene.List(graphene.NonNull(IndicatorType), required=True)

    @classmethod
    def node_queryset(cls, info):
        return selectors.indicator_sets_for(info.context.user)

    def resolve_indicators(root, info):
        return root.indicators.all()


class IndicatorResultType(graphene.ObjectType):
    class Meta:
        name = "IndicatorResult"

    code = graphene.String(required=True)
    value = graphene.String(description="The indicator's exact value (null: not applicable).")
    score = graphene.String(description="0–100 across the evaluated units (null: not applicable).")


class LeagueEntryType(graphene.ObjectType):
    class Meta:
        name = "LeagueEntry"

    rank = graphene.Int()
    jurisdiction_code = graphene.String(required=True)
    jurisdiction_name_zh = graphene.String(required=True)
    jurisdiction_name_en = graphene.String(required=True)
    weighted_score = graphene.Decimal()
    indicators = graphene.List(graphene.NonNull(IndicatorResultType), required=True)


class FactType(graphene.ObjectType):
    class Meta:
        name = "EvaluationFactRow"

    jurisdiction_code = graphene.String(required=True)
    code = graphene.String(required=True)
    value = graphene.String(description="Exact decimal (6 places), null when not applicable.")


class EvaluationTotalsType(graphene.ObjectType):
    class Meta:
        name = "EvaluationTotals"

    savings = Money(required=True)
    received_value = Money(required=True)
    reuse_rate = graphene.Decimal()
    transfers_completed = graphene.Int(required=True)


class EvaluationType(ScopedObjectType):
    class Meta:
        model = Evaluation
        name = "Evaluation"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "region", "period_from", "period_to", "version", "frozen_at", "objection_due_at",
                  "audit_head_hash", "audit_event_count", "note")
        filter_fields = []

    cycle = graphene.Field(EvaluationCycle, required=True)
    indicator_set = graphene.Field(IndicatorSetType, required=True)
    published_at = graphene.DateTime()
    league = graphene.List(graphene.NonNull(LeagueEntryType), required=True, description="Scores in rank order.")
    facts = graphene.List(graphene.NonNull(FactType), required=True, description="The frozen fact database.")
    totals = graphene.Field(EvaluationTotalsType, required=True)

    @classmethod
    def node_queryset(cls, info):
        return selectors.evaluations_for(info.context.user)

    def resolve_published_at(root, info):
        publication = getattr(root, "publication", None)
        return publication.published_at if publication else None

    def resolve_league(root, info):
        return [LeagueEntryType(rank=s.rank, jurisdiction_code=s.jurisdiction.code,
                                jurisdiction_name_zh=s.jurisdiction.name_zh,
                                jurisdiction_name_en=s.jurisdiction.name_en, weighted_score=s.weighted_score,
                                indicators=[IndicatorResultType(code=c, value=v["value"], score=v["score"])
                                            for c, v in s.indicators.items()])
                for s in selectors.league_table(root)]

    def resolve_facts(root, info):
        return [FactType(jurisdiction_code=unit.code, code=code, value=_text(value))
                for unit, facts in sorted(services.facts_of(root).items(), key=lambda kv: kv[0].code)
                for code, value in sorted(facts.items())]

    def resolve_totals(root, info):
        t = selectors.totals(root)
        return EvaluationTotalsType(savings=t["savings"], received_value=t["received_value"],
                                    reuse_rate=t["reuse_rate"], transfers_completed=t["transfers_completed"])


class ObjectionType(ScopedObjectType):
    class Meta:
        model = Objection
        name = "Objection"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("id", "evaluation", "reason", "filed_at", "decision_reason", "decided_at", "correction")
        filter_fields = []

    jurisdiction_code = graphene.String(required=True)
    decision = graphene.Field(ObjectionDecision, required=True)

    @classmethod
    def node_queryset(cls, info):
        return selectors.objections_for(info.context.user)

    def resolve_jurisdiction_code(root, info):
        return root.jurisdiction.code


class Query(graphene.ObjectType):
    evaluations = PagedConnectionField(EvaluationType, description="Frozen evaluations of your region, newest first.")
    indicator_sets = PagedConnectionField(IndicatorSetType)
    objections = PagedConnectionField(ObjectionType)

    def resolve_evaluations(root, info, **kwargs):
        return selectors.evaluations_for(info.context.user)

    def resolve_indicator_sets(root, info, **kwargs):
        return selectors.indicator_sets_for(info.context.user)

    def resolve_objections(root, info, **kwargs):
        return selectors.objections_for(info.context.user)


def _region(code):
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotFound(field="region_code")
    return region


def _evaluation(info, value, field="evaluation_id"):
    pk = decode_id(value, "Evaluation", field)
    return selectors.evaluation_for(info.context.user, pk)


class FreezeEvaluation(DomainMutation):
    """Freeze a region's ended cycle now (the scheduler does it by itself at each cycle's end)."""

    class Input:
        region_code = graphene.String(required=True)
        period_from = graphene.Date(required=True)
        period_to = graphene.Date(required=True)

    evaluation = graphene.Field(EvaluationType)

    @classmethod
    def perform(cls, info, region_code, period_from, period_to):
        return cls(evaluation=services.freeze(_region(region_code), period_from, period_to, user=info.context.user))


class PublishEvaluation(DomainMutation):
    class Input:
        evaluation_id = graphene.ID(required=True)

    evaluation = graphene.Field(EvaluationType)

    @classmethod
    def perform(cls, info, evaluation_id):
        publication = services.publish(info.context.user, _evaluation(info, evaluation_id))
        return cls(evaluation=publication.evaluation)


class FileObjection(DomainMutation):
    class Input:
        evaluation_id = graphene.ID(required=True)
        jurisdiction_code = graphene.String(required=True)
        reason = graphene.String(required=True)

    objection = graphene.Field(ObjectionType)

    @classmethod
    def perform(cls, info, evaluation_id, jurisdiction_code, reason):
        evaluation = _evaluation(info, evaluation_id)
        return cls(objection=services.file_objection(info.context.user, evaluation,
                                                     services.jurisdiction_by_code(jurisdiction_code), reason))


class FactCorrectionInput(graphene.InputObjectType):
    code = graphene.String(required=True)
    value = graphene.String(required=True, description="Exact decimal.")


class DecideObjection(DomainMutation):
    class Input:
        objection_id = graphene.ID(required=True)
        upheld = graphene.Boolean(required=True)
        reason = graphene.String(required=True)
        corrections = graphene.List(graphene.NonNull(FactCorrectionInput))

    objection = graphene.Field(ObjectionType)

    @classmethod
    def perform(cls, info, objection_id, upheld, reason, corrections=None):
        pk = decode_id(objection_id, "Objection", "objection_id")
        objection = selectors.objections_for(info.context.user).filter(pk=pk).first()
        if objection is None:
            raise NotFound(field="objection_id")
        fixed = {c.code: c.value for c in corrections or []}
        return cls(objection=services.decide_objection(info.context.user, objection, upheld=upheld, reason=reason,
                                                       corrections=fixed))


class GrantEvaluator(DomainMutation):
    """Give an external evaluator read-only access to one period's evaluations until `validUntil`."""

    class Input:
        username = graphene.String(required=True)
        region_code = graphene.String(required=True)
        period_from = graphene.Date(required=True)
        period_to = graphene.Date(required=True)
        valid_until = graphene.DateTime(required=True)
        reason = graphene.String(required=True)

    granted = graphene.Boolean()

    @classmethod
    def perform(cls, info, username, region_code, period_from, period_to, valid_until, reason):
        services.grant_evaluator(info.context.user, find_user(username), _region(region_code), period_from,
                                 period_to, valid_until, reason)
        return cls(granted=True)


class RevokeEvaluator(DomainMutation):
    """End an external evaluator's access to one period's evaluations now."""

    class Input:
        username = graphene.String(required=True)
        region_code = graphene.String(required=True)
        period_from = graphene.Date(required=True)
        period_to = graphene.Date(required=True)
        reason = graphene.String(required=True)

    revoked = graphene.Int(description="How many grants ended.")

    @classmethod
    def perform(cls, info, username, region_code, period_from, period_to, reason):
        return cls(revoked=services.revoke_evaluator(info.context.user, find_user(username), _region(region_code),
                                                     period_from, period_to, reason))


class Mutation(graphene.ObjectType):
    freeze_evaluation = FreezeEvaluation.Field()
    publish_evaluation = PublishEvaluation.Field()
    file_objection = FileObjection.Field()
    decide_objection = DecideObjection.Field()
    grant_evaluator = GrantEvaluator.Field()
    revoke_evaluator = RevokeEvaluator.Field()
