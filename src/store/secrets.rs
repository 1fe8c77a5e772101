//! `server_secrets`: secrets every instance of a server shares (migration 17).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{
    ConnectionTrait, DbErr,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};

/// The secret called `name`, storing `candidate` first when there is none yet (the first
/// instance's value wins; concurrent callers all get the same one). Errors: database errors, or
/// a stored value that is not base64url.
pub async fn get_or_insert(
    db: &impl ConnectionTrait,
    name: &str,
    candidate: &[u8],
) -> Result<Vec<u8>, DbErr> {
    let table = Alias::new("server_secrets");
    let insert = Query::insert()
        .into_table(table.clone())
        .columns([
            Alias::new("name"),
            Alias::new("value"),
            Alias::new("created_at"),
        ])
        .values_panic([
            name.into(),
            URL_SAFE_NO_PAD.encode(candidate).into(),
            chrono::Utc::now().into(),
        ])
        .on_conflict(
            OnConflict::column(Alias::new("name"))
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    let select = Query::select()
        .column(Alias::new("value"))
        .from(table)
        .and_where(Expr::col(Alias::new("name")).eq(name))
        .to_owned();
    let row = db
        .query_one(&select)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("server secret {name}")))?;
    let text: String = row.try_get_by_index(0)?;
    URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|e| DbErr::Custom(format!("server secret {name} is not base64url: {e}")))
}
