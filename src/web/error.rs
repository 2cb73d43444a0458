//! What a handler answers when it cannot show the page.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// A page that cannot be shown, and why. `Forbidden` is logged where it is
/// raised ([`super::Viewer::refuse`]), with who asked.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::storage::StorageError> for WebError {
    fn from(e: crate::storage::StorageError) -> Self {
        WebError::Internal(e.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, vi, en) = match &self {
            WebError::Forbidden(_) => (
                StatusCode::FORBIDDEN,
                "Bạn không có quyền xem trang này.",
                "You may not see this page.",
            ),
            WebError::NotFound(_) => (
                StatusCode::NOT_FOUND,
                "Không tìm thấy trang hoặc dữ liệu này.",
                "Not found.",
            ),
            WebError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "Yêu cầu không hợp lệ.",
                "Bad request.",
            ),
            WebError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "console: page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Có lỗi khi hiển thị trang; chi tiết ở nhật ký của dịch vụ.",
                    "The page failed; the service's log has the details.",
                )
            }
        };
        let detail = match &self {
            WebError::BadRequest(m) => format!("<p>{}</p>", minijinja::HtmlEscape(m)),
            _ => String::new(),
        };
        let body = format!(
            "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
             <title>{code}</title><link rel=\"stylesheet\" href=\"/static/console.css\"></head>\
             <body><main><h1>{code}</h1><p>{vi}</p><p lang=\"en\">{en}</p>{detail}\
             <p><a href=\"/\">Về trang tổng quan</a></p></main></body></html>",
            code = status.as_u16()
        );
        (status, Html(body)).into_response()
    }
}
