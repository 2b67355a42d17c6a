"""Domain-named GraphQL enums for the exchange's closed sets (used by inputs and outputs alike)."""
from api.scalars import domain_enum
from exchange import models

AssetKind = domain_enum("AssetKind", models.AssetClass.Kind, "资产大类 Kind of an asset class.")
ListingKind = domain_enum("ListingKind", models.AssetClass.Kind,
                          "挂牌物品类别（资产大类或办公用房）Kind of a listed item: an asset class kind, or "
                          "office space.",
                          values=[("office", "办公用房 office space")])
Condition = domain_enum("Condition", models.Condition, "成新状况 Condition of an item.")
AssetStatus = domain_enum("AssetStatus", models.Asset.Status, "资产状态 Status of an asset record.")
OfficeSpaceStatus = domain_enum("OfficeSpaceStatus", models.OfficeSpace.Status,
                                "办公用房状态 Status of an office space.")
ListingStatus = domain_enum("ListingStatus", models.Listing.Status, "挂牌状态 Status of a listing.")
ScreeningWindow = domain_enum("ScreeningWindow", models.Listing.Window,
                              "公示窗口 Screening window of a listing: own jurisdiction first, then the whole "
                              "region, then disposal.")
TransferRequestStatus = domain_enum("TransferRequestStatus", models.TransferRequest.Status,
                                    "申领状态 Status of a transfer request.")
TransferStatus = domain_enum("TransferStatus", models.Transfer.Status, "调拨状态 Status of a transfer.")
ApprovalKind = domain_enum("ApprovalKind", models.ApprovalStep.Kind, "审批环节 Whose approval a step is.")
ApprovalDecision = domain_enum("ApprovalDecision", models.ApprovalStep.Decision, "审批结论 Decision on a step.")
ImportJobStatus = domain_enum("ImportJobStatus", models.ImportJob.Status, "导入任务状态 Status of an import job.")
ApprovalStepOrder = domain_enum("ApprovalStepOrder", [
    ("light", "最紧急在前（红、黄、绿）most urgent first (red, yellow, green), then due time"),
    ("due_at", "到期时间升序 due time, earliest first"),
    ("due_at_desc", "到期时间降序 due time, latest first"),
    ("opened_at", "开始时间升序 opened, oldest first"),
    ("opened_at_desc", "开始时间降序 opened, newest first"),
], "审批环节排序 Order of approval steps.")
ListingOrder = domain_enum("ListingOrder", [
    ("newest", "最新挂牌在前 newest first"),
    ("distance", "由近及远（需给出位置）nearest first (needs a point or an agency)"),
    ("oldest", "最早挂牌在前 oldest first"),
], "挂牌排序 Order of listings (default: nearest first with a point, else newest first).")
BreachKind = domain_enum("BreachKind", [
    ("price_cap", "单价超过配置上限 unit value above the class price cap"),
    ("quota_per_head", "超过人均配置数量 more than the quantity allowed per head"),
    ("min_service_life", "未达最低使用年限 below the minimum service life"),
    ("office_area", "超过办公用房面积标准 office area above the standard"),
], "超标类别（exchange/services/screening.py）Which standard a request breaches.")
