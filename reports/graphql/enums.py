"""Domain-named GraphQL enums for report jobs."""
from api.scalars import domain_enum
from reports.models import ReportJob
from reports.models import ReportKind as ReportKindChoices

ReportKind = domain_enum("ReportKind", ReportKindChoices,
                         "报表类别 Kind of PDF report: 调拨单 transfer certificate; 调剂调拨情况报告 period allocation "
                         "report; 结算单 settlement statement; 绩效评估表 performance scorecard.")
ReportStatus = domain_enum("ReportStatus", ReportJob.Status, "报表任务状态 Status of a report job.")
