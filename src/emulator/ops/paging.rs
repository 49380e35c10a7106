//! Paging of DescribeKeyPairs and DescribeInstances: Alibaba counts pages from 1
//! (`PageNumber`, `PageSize`), Tencent counts items from 0 (`Offset`, `Limit`).

use super::Ctx;
use crate::emulator::profile::Paging;
use crate::emulator::wire::ApiError;

/// The slice of a listing one call asks for.
pub(super) struct Page {
    /// Items before the page.
    pub skip: usize,
    /// Items on the page.
    pub take: usize,
    /// `PageNumber` or `Offset`, echoed by the answer.
    pub start: i64,
    /// `PageSize` or `Limit`, echoed by the answer.
    pub size: i64,
}

impl Paging {
    fn start_param(self) -> &'static str {
        match self {
            Paging::Numbered => "PageNumber",
            Paging::Offset => "Offset",
        }
    }

    fn size_param(self) -> &'static str {
        match self {
            Paging::Numbered => "PageSize",
            Paging::Offset => "Limit",
        }
    }

    /// The first page number or offset; smaller ones are read as this one.
    fn first(self) -> i64 {
        match self {
            Paging::Numbered => 1,
            Paging::Offset => 0,
        }
    }
}

/// The page the request asks for, refusing sizes outside 1..=`max`.
pub(super) fn requested(ctx: &Ctx<'_>, max: usize) -> Result<Page, ApiError> {
    let paging = ctx.p.paging;
    let params = &ctx.req.params;
    let start = params
        .int(paging.start_param())?
        .unwrap_or(paging.first())
        .max(paging.first());
    let size = params
        .int(paging.size_param())?
        .unwrap_or(ctx.p.page_default);
    if size < 1 || size as usize > max {
        return Err(ApiError::invalid(
            ctx.p.codes.page_size,
            format!("The page size must be between 1 and {max}."),
        ));
    }
    let skipped = match paging {
        Paging::Numbered => (start - 1).saturating_mul(size),
        Paging::Offset => start,
    };
    Ok(Page {
        skip: usize::try_from(skipped).unwrap_or(usize::MAX),
        take: size as usize,
        start,
        size,
    })
}
