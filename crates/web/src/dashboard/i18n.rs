//! Every string the dashboard shows a person, in English and Simplified
//! Chinese: one [`Text`] catalogue per language. A new string is a new field,
//! so a language that lacks it does not compile.
//!
//! The language comes from the `amzsync_lang` cookie (set by `/lang`), else
//! from `Accept-Language`, else English.

use amzsync_domain::{ErrorClass, SyncKind, TaskStatus};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::session::cookie;

/// The cookie remembering the chosen language.
pub(crate) const LANG_COOKIE: &str = "amzsync_lang";

/// A language the dashboard speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Zh,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>` and the cookie.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    pub(crate) fn parse(raw: &str) -> Option<Lang> {
        let raw = raw.trim().to_ascii_lowercase();
        if raw == "en" || raw.starts_with("en-") {
            Some(Lang::En)
        } else if raw == "zh" || raw.starts_with("zh-") {
            Some(Lang::Zh)
        } else {
            None
        }
    }

    pub(crate) fn text(self) -> &'static Text {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        }
    }

    /// The language a switcher offers next to this one.
    pub(crate) fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }

    /// The first language of `Accept-Language` we speak (weights ignored:
    /// browsers list languages in preference order).
    fn from_accept(value: &str) -> Option<Lang> {
        value
            .split(',')
            .filter_map(|part| part.split(';').next())
            .find_map(Lang::parse)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let chosen = cookie(&parts.headers, LANG_COOKIE).and_then(|v| Lang::parse(&v));
        let accepted = || {
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept)
        };
        Ok(chosen.or_else(accepted).unwrap_or(Lang::En))
    }
}

/// One language's strings. Strings with `{n}` take one number (see [`fill`]).
#[derive(Debug)]
pub(crate) struct Text {
    pub language_name: &'static str,
    pub switch_language: &'static str,
    pub app_name: &'static str,
    pub skip_to_content: &'static str,
    pub nav_stores: &'static str,
    pub nav_history: &'static str,
    pub nav_add_store: &'static str,
    pub signed_in_as: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub sign_in_intro: &'static str,
    pub api_token: &'static str,
    pub api_token_hint: &'static str,
    pub sign_in_failed: &'static str,
    pub stores_title: &'static str,
    pub no_stores: &'static str,
    pub marketplaces: &'static str,
    pub region: &'static str,
    pub seller_id: &'static str,
    pub needs_reauth: &'static str,
    pub inactive: &'static str,
    pub kind_inventory: &'static str,
    pub kind_business: &'static str,
    pub kind_advertising: &'static str,
    pub last_sync: &'static str,
    pub records_synced: &'static str,
    pub records_failed: &'static str,
    pub freshness: &'static str,
    pub never: &'static str,
    pub sync_now: &'static str,
    pub status: &'static str,
    pub status_never: &'static str,
    pub status_pending: &'static str,
    pub status_running: &'static str,
    pub status_success: &'static str,
    pub status_failed: &'static str,
    pub progress: &'static str,
    pub sync_already_running: &'static str,
    pub sync_started: &'static str,
    pub sync_store_inactive: &'static str,
    pub sync_unsupported: &'static str,
    pub just_now: &'static str,
    pub minutes_ago: &'static str,
    pub hours_ago: &'static str,
    pub days_ago: &'static str,
    pub stale: &'static str,
    pub settings: &'static str,
    pub history_title: &'static str,
    pub filter: &'static str,
    pub clear_filters: &'static str,
    pub any: &'static str,
    pub store: &'static str,
    pub kind: &'static str,
    pub from_date: &'static str,
    pub to_date: &'static str,
    pub created: &'static str,
    pub started: &'static str,
    pub finished: &'static str,
    pub duration: &'static str,
    pub trigger: &'static str,
    pub window: &'static str,
    pub engine_default_window: &'static str,
    pub no_tasks: &'static str,
    pub tasks_total: &'static str,
    pub previous_page: &'static str,
    pub next_page: &'static str,
    pub page_of: &'static str,
    pub details: &'static str,
    pub task_title: &'static str,
    pub error_class: &'static str,
    pub error_message: &'static str,
    pub attempts: &'static str,
    pub retries: &'static str,
    pub next_attempt: &'static str,
    pub retry: &'static str,
    pub retry_started: &'static str,
    pub add_store_title: &'static str,
    pub store_name: &'static str,
    pub marketplaces_hint: &'static str,
    pub sp_api_refresh_token: &'static str,
    pub advertising_api_refresh_token: &'static str,
    pub sp_api_client_id: &'static str,
    pub sp_api_client_secret: &'static str,
    pub optional: &'static str,
    pub write_only_hint: &'static str,
    pub create_store: &'static str,
    pub settings_title: &'static str,
    pub update_secrets: &'static str,
    pub update_secrets_hint: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub secret_set: &'static str,
    pub secret_not_set: &'static str,
    pub verify_credentials: &'static str,
    pub verify_hint: &'static str,
    pub verify_button: &'static str,
    pub verify_sp_api: &'static str,
    pub verify_advertising: &'static str,
    pub verify_valid: &'static str,
    pub verify_not_configured: &'static str,
    pub verify_failed: &'static str,
    pub verify_profiles: &'static str,
    pub scheduled_syncs: &'static str,
    pub active: &'static str,
    pub deactivate: &'static str,
    pub activate: &'static str,
    pub danger_zone: &'static str,
    pub delete_store: &'static str,
    pub delete_confirm_title: &'static str,
    pub delete_confirm_text: &'static str,
    pub delete_confirm_button: &'static str,
    pub cancel: &'static str,
    pub glance_title: &'static str,
    pub last_30_days: &'static str,
    pub chart_sales: &'static str,
    pub chart_ad_spend: &'static str,
    pub chart_ad_sales: &'static str,
    pub chart_acos: &'static str,
    pub chart_tacos: &'static str,
    pub chart_total: &'static str,
    pub chart_average: &'static str,
    pub no_data: &'static str,
    pub inventory_title: &'static str,
    pub inventory_as_of: &'static str,
    pub sku: &'static str,
    pub product: &'static str,
    pub fulfillable: &'static str,
    pub inbound: &'static str,
    pub reserved: &'static str,
    pub avg_weekly_units: &'static str,
    pub weeks_of_cover: &'static str,
    pub weeks_of_cover_help: &'static str,
    pub no_sales: &'static str,
    pub low_cover: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub error_title: &'static str,
    pub internal_error: &'static str,
    pub back_to_stores: &'static str,
    pub class_transient: &'static str,
    pub class_throttled: &'static str,
    pub class_unauthorized: &'static str,
    pub class_forbidden: &'static str,
    pub class_report_fatal: &'static str,
    pub class_invalid_input: &'static str,
    pub class_invalid_data: &'static str,
    pub class_internal: &'static str,
    pub trigger_manual: &'static str,
    pub trigger_scheduled: &'static str,
    pub trigger_retry: &'static str,
}

impl Text {
    pub(crate) fn kind(&self, kind: SyncKind) -> &'static str {
        match kind {
            SyncKind::Inventory => self.kind_inventory,
            SyncKind::Business => self.kind_business,
            SyncKind::Advertising => self.kind_advertising,
        }
    }

    pub(crate) fn task_status(&self, status: Option<TaskStatus>) -> &'static str {
        match status {
            None => self.status_never,
            Some(TaskStatus::Pending) => self.status_pending,
            Some(TaskStatus::Running) => self.status_running,
            Some(TaskStatus::Success) => self.status_success,
            Some(TaskStatus::Failed) => self.status_failed,
        }
    }

    pub(crate) fn error_class(&self, class: ErrorClass) -> &'static str {
        match class {
            ErrorClass::Transient => self.class_transient,
            ErrorClass::Throttled => self.class_throttled,
            ErrorClass::Unauthorized => self.class_unauthorized,
            ErrorClass::Forbidden => self.class_forbidden,
            ErrorClass::ReportFatal => self.class_report_fatal,
            ErrorClass::InvalidInput => self.class_invalid_input,
            ErrorClass::InvalidData => self.class_invalid_data,
            ErrorClass::Internal => self.class_internal,
        }
    }

    pub(crate) fn trigger(&self, trigger: amzsync_domain::Trigger) -> &'static str {
        match trigger {
            amzsync_domain::Trigger::Manual => self.trigger_manual,
            amzsync_domain::Trigger::Scheduled => self.trigger_scheduled,
            amzsync_domain::Trigger::Retry => self.trigger_retry,
        }
    }

    /// "3 h ago", from a number of seconds.
    pub(crate) fn ago(&self, seconds: i64) -> String {
        match seconds {
            s if s < 60 => self.just_now.to_owned(),
            s if s < 3600 => fill(self.minutes_ago, s / 60),
            s if s < 86_400 => fill(self.hours_ago, s / 3600),
            s => fill(self.days_ago, s / 86_400),
        }
    }
}

/// Puts `n` in place of `{n}`.
pub(crate) fn fill(template: &str, n: impl std::fmt::Display) -> String {
    template.replace("{n}", &n.to_string())
}

static EN: Text = Text {
    language_name: "English",
    switch_language: "Language",
    app_name: "amzsync",
    skip_to_content: "Skip to content",
    nav_stores: "Stores",
    nav_history: "Sync history",
    nav_add_store: "Add a store",
    signed_in_as: "Signed in as",
    sign_in: "Sign in",
    sign_out: "Sign out",
    sign_in_intro: "Sign in with one of your API tokens. The token stays in an HttpOnly cookie of this browser until you sign out.",
    api_token: "API token",
    api_token_hint: "Starts with amzs_; create one with `amzsync tokens create`.",
    sign_in_failed: "That token is unknown or revoked.",
    stores_title: "Stores",
    no_stores: "No stores yet. Add one to start syncing.",
    marketplaces: "Marketplaces",
    region: "Region",
    seller_id: "Seller ID",
    needs_reauth: "Needs re-authorization: Amazon refused this store's grant. Update its refresh tokens to resume syncing.",
    inactive: "Syncs are off",
    kind_inventory: "Inventory",
    kind_business: "Sales & traffic",
    kind_advertising: "Advertising",
    last_sync: "Last sync",
    records_synced: "Records synced",
    records_failed: "Records failed",
    freshness: "Data freshness",
    never: "never",
    sync_now: "Sync now",
    status: "Status",
    status_never: "Never synced",
    status_pending: "Pending",
    status_running: "Running",
    status_success: "Success",
    status_failed: "Failed",
    progress: "Progress",
    sync_already_running: "A sync of this kind is already running for this store.",
    sync_started: "Sync started.",
    sync_store_inactive: "Syncs are off for this store: turn them on in its settings.",
    sync_unsupported: "This store cannot sync this kind of data (for advertising: add an Advertising API refresh token).",
    just_now: "just now",
    minutes_ago: "{n} min ago",
    hours_ago: "{n} h ago",
    days_ago: "{n} days ago",
    stale: "stale",
    settings: "Settings",
    history_title: "Sync history",
    filter: "Filter",
    clear_filters: "Clear",
    any: "Any",
    store: "Store",
    kind: "Kind",
    from_date: "From",
    to_date: "To",
    created: "Created",
    started: "Started",
    finished: "Finished",
    duration: "Duration",
    trigger: "Trigger",
    window: "Window",
    engine_default_window: "default",
    no_tasks: "No sync tasks match.",
    tasks_total: "{n} tasks",
    previous_page: "Previous",
    next_page: "Next",
    page_of: "Page",
    details: "Details",
    task_title: "Sync task",
    error_class: "Error class",
    error_message: "Error message",
    attempts: "Attempts",
    retries: "Retries",
    next_attempt: "Next attempt",
    retry: "Retry",
    retry_started: "The task is pending again.",
    add_store_title: "Add a store",
    store_name: "Store name",
    marketplaces_hint: "Marketplace ids or country codes, comma-separated, all in the region; the first is the primary one (for example: US, CA).",
    sp_api_refresh_token: "SP-API refresh token",
    advertising_api_refresh_token: "Advertising API refresh token",
    sp_api_client_id: "Own LWA client id",
    sp_api_client_secret: "Own LWA client secret",
    optional: "optional",
    write_only_hint: "Secrets are encrypted and never shown again.",
    create_store: "Add store",
    settings_title: "Store settings",
    update_secrets: "Update credentials",
    update_secrets_hint: "Fill in only what changes; empty fields keep the current value. New credentials clear the re-authorization warning.",
    save: "Save",
    saved: "Saved.",
    secret_set: "set",
    secret_not_set: "not set",
    verify_credentials: "Verify credentials",
    verify_hint: "Asks Amazon now whether the saved refresh tokens work (a Login with Amazon refresh, and the Ads profiles). Nothing is synced.",
    verify_button: "Verify",
    verify_sp_api: "SP-API refresh token",
    verify_advertising: "Advertising API refresh token",
    verify_valid: "Valid",
    verify_not_configured: "Not set",
    verify_failed: "Failed",
    verify_profiles: "Ads profiles found",
    scheduled_syncs: "Syncs",
    active: "On",
    deactivate: "Turn off syncs (scheduled and manual)",
    activate: "Turn on syncs",
    danger_zone: "Delete",
    delete_store: "Delete this store…",
    delete_confirm_title: "Delete store",
    delete_confirm_text: "This deletes the store with its sync history and all its synced data. It cannot be undone.",
    delete_confirm_button: "Delete permanently",
    cancel: "Cancel",
    glance_title: "Data at a glance",
    last_30_days: "last 30 days",
    chart_sales: "Daily sales",
    chart_ad_spend: "Ad spend",
    chart_ad_sales: "Ad sales (7-day attribution)",
    chart_acos: "ACoS (ad spend / ad sales)",
    chart_tacos: "TACoS (ad spend / total sales)",
    chart_total: "Total",
    chart_average: "Average",
    no_data: "No data for this period yet.",
    inventory_title: "Inventory",
    inventory_as_of: "As of",
    sku: "SKU",
    product: "Product",
    fulfillable: "Fulfillable",
    inbound: "Inbound",
    reserved: "Reserved",
    avg_weekly_units: "Avg. weekly units (30 d)",
    weeks_of_cover: "Weeks of cover",
    weeks_of_cover_help: "Weeks of cover = (fulfillable + inbound units) ÷ average weekly units ordered over the last 30 days. A dash means no units were ordered.",
    no_sales: "no sales",
    low_cover: "low",
    not_found_title: "Not found",
    not_found_text: "There is nothing here, or it is not yours.",
    error_title: "Something went wrong",
    internal_error: "The server failed to answer. Try again later.",
    back_to_stores: "Back to stores",
    class_transient: "Transient (network or server error)",
    class_throttled: "Throttled by Amazon",
    class_unauthorized: "Unauthorized (grant revoked)",
    class_forbidden: "Forbidden (missing role)",
    class_report_fatal: "Report failed at Amazon",
    class_invalid_input: "Invalid request",
    class_invalid_data: "Unreadable data",
    class_internal: "Internal error",
    trigger_manual: "Manual",
    trigger_scheduled: "Scheduled",
    trigger_retry: "Retry",
};

static ZH: Text = Text {
    language_name: "简体中文",
    switch_language: "语言",
    app_name: "amzsync",
    skip_to_content: "跳到正文",
    nav_stores: "店铺",
    nav_history: "同步记录",
    nav_add_store: "添加店铺",
    signed_in_as: "当前用户",
    sign_in: "登录",
    sign_out: "退出登录",
    sign_in_intro: "使用您的 API 令牌登录。令牌保存在本浏览器的 HttpOnly Cookie 中，直到您退出登录。",
    api_token: "API 令牌",
    api_token_hint: "以 amzs_ 开头；可用 `amzsync tokens create` 创建。",
    sign_in_failed: "该令牌不存在或已被吊销。",
    stores_title: "店铺",
    no_stores: "还没有店铺。添加一个店铺即可开始同步。",
    marketplaces: "站点",
    region: "区域",
    seller_id: "卖家 ID",
    needs_reauth: "需要重新授权：亚马逊拒绝了该店铺的授权。请更新刷新令牌以恢复同步。",
    inactive: "同步已关闭",
    kind_inventory: "库存",
    kind_business: "销售与流量",
    kind_advertising: "广告",
    last_sync: "上次同步",
    records_synced: "已同步记录",
    records_failed: "失败记录",
    freshness: "数据新鲜度",
    never: "从未",
    sync_now: "立即同步",
    status: "状态",
    status_never: "从未同步",
    status_pending: "等待中",
    status_running: "同步中",
    status_success: "成功",
    status_failed: "失败",
    progress: "进度",
    sync_already_running: "该店铺的此类同步正在进行中。",
    sync_started: "同步已开始。",
    sync_store_inactive: "此店铺的同步已关闭：请在店铺设置中开启。",
    sync_unsupported: "此店铺无法同步此类数据（广告数据需要添加 Advertising API 刷新令牌）。",
    just_now: "刚刚",
    minutes_ago: "{n} 分钟前",
    hours_ago: "{n} 小时前",
    days_ago: "{n} 天前",
    stale: "已过期",
    settings: "设置",
    history_title: "同步记录",
    filter: "筛选",
    clear_filters: "清除",
    any: "全部",
    store: "店铺",
    kind: "类型",
    from_date: "开始日期",
    to_date: "结束日期",
    created: "创建时间",
    started: "开始时间",
    finished: "完成时间",
    duration: "耗时",
    trigger: "触发方式",
    window: "日期范围",
    engine_default_window: "默认",
    no_tasks: "没有符合条件的同步任务。",
    tasks_total: "共 {n} 个任务",
    previous_page: "上一页",
    next_page: "下一页",
    page_of: "页",
    details: "详情",
    task_title: "同步任务",
    error_class: "错误类别",
    error_message: "错误信息",
    attempts: "尝试次数",
    retries: "重试次数",
    next_attempt: "下次尝试",
    retry: "重试",
    retry_started: "任务已重新排队。",
    add_store_title: "添加店铺",
    store_name: "店铺名称",
    marketplaces_hint: "站点 ID 或国家代码，用逗号分隔，须属于同一区域；第一个为主站点（例如：US, CA）。",
    sp_api_refresh_token: "SP-API 刷新令牌",
    advertising_api_refresh_token: "广告 API 刷新令牌",
    sp_api_client_id: "自有 LWA 客户端 ID",
    sp_api_client_secret: "自有 LWA 客户端密钥",
    optional: "可选",
    write_only_hint: "密钥会加密保存，之后不再显示。",
    create_store: "添加店铺",
    settings_title: "店铺设置",
    update_secrets: "更新凭证",
    update_secrets_hint: "只需填写要更改的项；留空则保持不变。更新凭证后会清除重新授权提示。",
    save: "保存",
    saved: "已保存。",
    secret_set: "已设置",
    secret_not_set: "未设置",
    verify_credentials: "验证凭证",
    verify_hint: "立即向亚马逊确认已保存的刷新令牌是否可用（Login with Amazon 刷新，以及广告配置文件）。不会同步任何数据。",
    verify_button: "验证",
    verify_sp_api: "SP-API 刷新令牌",
    verify_advertising: "广告 API 刷新令牌",
    verify_valid: "有效",
    verify_not_configured: "未设置",
    verify_failed: "失败",
    verify_profiles: "找到的广告配置文件",
    scheduled_syncs: "同步",
    active: "已开启",
    deactivate: "关闭同步（定时与手动）",
    activate: "开启同步",
    danger_zone: "删除",
    delete_store: "删除此店铺…",
    delete_confirm_title: "删除店铺",
    delete_confirm_text: "这将删除该店铺及其同步记录和所有已同步的数据，且无法恢复。",
    delete_confirm_button: "永久删除",
    cancel: "取消",
    glance_title: "数据概览",
    last_30_days: "最近 30 天",
    chart_sales: "每日销售额",
    chart_ad_spend: "广告花费",
    chart_ad_sales: "广告销售额（7 天归因）",
    chart_acos: "ACoS（广告花费 / 广告销售额）",
    chart_tacos: "TACoS（广告花费 / 总销售额）",
    chart_total: "合计",
    chart_average: "平均",
    no_data: "该期间暂无数据。",
    inventory_title: "库存",
    inventory_as_of: "截至",
    sku: "SKU",
    product: "商品",
    fulfillable: "可售",
    inbound: "入库中",
    reserved: "预留",
    avg_weekly_units: "周均销量（30 天）",
    weeks_of_cover: "可售周数",
    weeks_of_cover_help: "可售周数 =（可售数量 + 入库中数量）÷ 最近 30 天的周均订购件数。短横线表示期间没有订单。",
    no_sales: "无销量",
    low_cover: "偏低",
    not_found_title: "未找到",
    not_found_text: "这里没有内容，或者它不属于您。",
    error_title: "出错了",
    internal_error: "服务器未能响应，请稍后再试。",
    back_to_stores: "返回店铺列表",
    class_transient: "临时错误（网络或服务器）",
    class_throttled: "被亚马逊限流",
    class_unauthorized: "未授权（授权已被撤销）",
    class_forbidden: "禁止访问（缺少角色）",
    class_report_fatal: "亚马逊生成报告失败",
    class_invalid_input: "请求无效",
    class_invalid_data: "数据无法读取",
    class_internal: "内部错误",
    trigger_manual: "手动",
    trigger_scheduled: "定时",
    trigger_retry: "重试",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_wins_over_accept_language_and_english_is_the_default() {
        assert_eq!(Lang::from_accept("zh-CN,zh;q=0.9,en;q=0.8"), Some(Lang::Zh));
        assert_eq!(Lang::from_accept("fr-FR, en-GB;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept("fr"), None);
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
    }

    #[test]
    fn ages_are_rounded_down_to_the_largest_unit() {
        assert_eq!(EN.ago(30), "just now");
        assert_eq!(EN.ago(3 * 3600 + 59), "3 h ago");
        assert_eq!(ZH.ago(2 * 86_400), "2 天前");
    }
}
