//! The moderation queue of reported messages (`/admin/reports`, needs `reports.review`).

use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{
    ApiTags,
    strict::{Limit, OptText, ReasonRule},
};
use crate::{
    domain::{Report, ReportId, ReportStatus},
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// A page of the moderation queue, oldest first.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ReportPage {
    /// This page's reports.
    pub reports: Vec<Report>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Body of `POST /admin/reports/{id}/resolve`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ResolveReportRequest {
    /// `resolved` (acted on) or `dismissed` (nothing to do); `open` is 422.
    pub status: ReportStatus,
    /// A note for the other moderators (1–500 characters).
    pub note: OptText<ReasonRule>,
}

/// Moderation queue API.
pub struct ReportsApi;

#[OpenApi(prefix_path = "/admin/reports", tag = "ApiTags::Admin")]
impl ReportsApi {
    /// Reported messages, oldest first, optionally of one status (needs `reports.review`).
    /// Each report shows the message as it is now (deleted: empty body). Paged: pass
    /// `next_cursor` back as `cursor`.
    #[oai(path = "/", method = "get", operation_id = "list_reports")]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        /// Only reports in this state.
        status: Query<Option<ReportStatus>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size.
        limit: Query<Limit<50, 100>>,
    ) -> ApiResult<Json<ReportPage>> {
        let page = state
            .reports
            .list(auth.actor(), status.0, cursor.0.as_deref(), limit.0.0)
            .await?;
        Ok(Json(ReportPage {
            reports: page.items,
            next_cursor: page.next_cursor,
        }))
    }

    /// Resolves or dismisses a report (needs `reports.review`); audited as `report.resolved`.
    #[oai(
        path = "/:id/resolve",
        method = "post",
        operation_id = "resolve_report"
    )]
    async fn resolve(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ReportId>,
        body: Json<ResolveReportRequest>,
    ) -> ApiResult<Json<Report>> {
        let Json(req) = body;
        Ok(Json(
            state
                .reports
                .resolve(auth.actor(), id.0, req.status, req.note.as_deref())
                .await?,
        ))
    }
}
