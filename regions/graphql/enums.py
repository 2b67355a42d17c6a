"""Domain-named GraphQL enums for the regions' closed sets (used by inputs and outputs alike)."""
from api.scalars import domain_enum
from regions import models

JurisdictionLevel = domain_enum("JurisdictionLevel", models.Jurisdiction.Level,
                                "行政区划级别 Level of a jurisdiction.")
PostRank = domain_enum("PostRank", models.Rank,
                       "职级（党政机关办公用房建设标准）Post rank used by the office-space standard.")
Role = domain_enum("Role", models.Role, "角色 Role a person (or an API token) acts in.")
AllocationMode = domain_enum("AllocationMode", models.AllocationMode,
                             "分配方式 How a region allocates a listing among its requests.")
TokenScope = domain_enum("TokenScope", [("read", "只读 read"), ("write", "读写 write")],
                         "API 令牌权限 Scope of an API token.")
OfficeNormLevel = domain_enum("OfficeNormLevel", models.OfficeSpaceNorm._meta.get_field("level").choices,
                              "办公用房标准适用级别 Level an office-space norm applies to (central, or a "
                              "jurisdiction level).")
AccessRequestStatus = domain_enum("AccessRequestStatus", models.AccessRequest.Status,
                                  "权限申请状态 Status of an access request.")
