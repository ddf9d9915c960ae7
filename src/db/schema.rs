//! Diesel table definitions shared by both backends; the migrations under `migrations/` define them.

diesel::table! {
    sources (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        connection_kind -> Text,
        connection_ref -> Text,
        default_schema -> Text,
        description -> Nullable<Text>,
        owner -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_crawled_at -> Nullable<Timestamp>,
        dataset_count -> BigInt,
        column_count -> BigInt,
    }
}

diesel::table! {
    crawl_runs (id) {
        id -> BigInt,
        source_id -> BigInt,
        status -> Text,
        triggered_by -> Text,
        queued_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        progress_done -> BigInt,
        progress_total -> BigInt,
        datasets_added -> BigInt,
        datasets_changed -> BigInt,
        datasets_removed -> BigInt,
        columns_added -> BigInt,
        columns_changed -> BigInt,
        columns_removed -> BigInt,
        error -> Nullable<Text>,
        kind -> Text,
        summary -> Nullable<Text>,
    }
}

diesel::table! {
    datasets (id) {
        id -> BigInt,
        source_id -> BigInt,
        schema_name -> Text,
        name -> Text,
        kind -> Text,
        description -> Nullable<Text>,
        owner -> Nullable<Text>,
        source_comment -> Nullable<Text>,
        definition -> Nullable<Text>,
        row_estimate -> Nullable<BigInt>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_crawled_at -> Nullable<Timestamp>,
        removed_at -> Nullable<Timestamp>,
        level_rank -> Nullable<Integer>,
    }
}

diesel::table! {
    dataset_columns (id) {
        id -> BigInt,
        dataset_id -> BigInt,
        ordinal -> Integer,
        name -> Text,
        data_type -> Text,
        nullable -> Bool,
        is_primary_key -> Bool,
        default_value -> Nullable<Text>,
        description -> Nullable<Text>,
        source_comment -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
        level_rank -> Nullable<Integer>,
        personal_data -> Bool,
        identifier_type -> Nullable<Text>,
        open_suggestions -> Integer,
        propagated -> Bool,
    }
}

diesel::table! {
    foreign_keys (id) {
        id -> BigInt,
        source_id -> BigInt,
        name -> Text,
        from_dataset_id -> BigInt,
        from_columns -> Text,
        to_dataset_id -> BigInt,
        to_columns -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Nullable<Text>,
        role -> Text,
        password_hash -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        password_changed_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        username -> Text,
        address -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        role -> Text,
        token_hash -> Text,
        prefix -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(crawl_runs -> sources (source_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(datasets -> sources (source_id));
diesel::joinable!(dataset_columns -> datasets (dataset_id));

diesel::table! {
    /// The audit log: append-only, hash-chained (see `governance::audit`).
    audit_events (seq) {
        seq -> BigInt,
        occurred_at -> Timestamp,
        actor -> Text,
        actor_role -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Nullable<Text>,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        reason -> Nullable<Text>,
        request_id -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    /// The audit log's last sequence number and hash, one row (id 1).
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    classification_levels (id) {
        id -> BigInt,
        rank -> Integer,
        name -> Text,
        colour -> Text,
        handling -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    personal_data_categories (id) {
        id -> BigInt,
        key -> Text,
        label -> Text,
        special -> Bool,
        builtin -> Bool,
        default_level_rank -> Nullable<Integer>,
        description -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    identifier_types (id) {
        id -> BigInt,
        key -> Text,
        label -> Text,
        category_key -> Nullable<Text>,
        builtin -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    column_classifications (column_id) {
        column_id -> BigInt,
        level_id -> Nullable<BigInt>,
        identifier_type_id -> Nullable<BigInt>,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    column_categories (column_id, category_id) {
        column_id -> BigInt,
        category_id -> BigInt,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    classification_suggestions (id) {
        id -> BigInt,
        column_id -> BigInt,
        category_id -> BigInt,
        identifier_type_id -> Nullable<BigInt>,
        level_rank -> Nullable<Integer>,
        confidence -> Double,
        evidence -> Text,
        status -> Text,
        proposed_by -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
    }
}

diesel::joinable!(column_categories -> personal_data_categories (category_id));
diesel::joinable!(classification_suggestions -> personal_data_categories (category_id));

diesel::allow_tables_to_appear_in_same_query!(
    sources,
    crawl_runs,
    datasets,
    dataset_columns,
    foreign_keys,
    users,
    sessions,
    login_failures,
    api_tokens,
    audit_events,
    audit_head,
    classification_levels,
    personal_data_categories,
    identifier_types,
    column_classifications,
    column_categories,
    classification_suggestions,
    pipelines,
    pipeline_statements,
    pipeline_tables,
    lineage_edges,
    column_lineage_edges,
    propagated_tags,
    lineage_blocks,
    governance_settings,
    erasure_requests,
    erasure_steps,
    erasure_runs,
    erasure_notifications,
    erasure_receipts,
    dataset_erasure_actions,
    legal_holds,
    retention_policies,
    retention_assignments,
    dataset_timestamps,
    retention_runs,
    retention_steps,
    pipeline_runs,
    dbt_documentation,
);

diesel::table! {
    /// Pipeline SQL ingested into the catalog (one file, or one pasted script).
    pipelines (id) {
        id -> BigInt,
        name -> Text,
        path -> Text,
        source_id -> BigInt,
        dialect -> Text,
        default_schema -> Text,
        content_hash -> Text,
        sql_text -> Text,
        statement_count -> BigInt,
        status -> Text,
        errors -> Text,
        degraded -> Bool,
        table_edge_count -> BigInt,
        column_edge_count -> BigInt,
        ingested_by -> Text,
        created_at -> Timestamp,
        ingested_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// One statement of a pipeline: where it is, what it is, how well it parsed.
    pipeline_statements (id) {
        id -> BigInt,
        pipeline_id -> BigInt,
        statement_index -> Integer,
        start_line -> Integer,
        end_line -> Integer,
        kind -> Text,
        status -> Text,
        parsed_dialect -> Nullable<Text>,
        error_line -> Nullable<Integer>,
        error_column -> Nullable<Integer>,
        error_message -> Nullable<Text>,
        unresolved_column_edges -> BigInt,
    }
}

diesel::table! {
    /// A table a statement reads or writes.
    pipeline_tables (id) {
        id -> BigInt,
        pipeline_id -> BigInt,
        statement_index -> Integer,
        access -> Text,
        table_name -> Text,
        dataset_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Table-level lineage: data of `from_dataset_id` flows into `to_dataset_id`.
    lineage_edges (id) {
        id -> BigInt,
        pipeline_id -> BigInt,
        statement_index -> Integer,
        from_dataset_id -> BigInt,
        to_dataset_id -> BigInt,
    }
}

diesel::table! {
    /// Column-level lineage: `to_column_id` is derived from `from_column_id`.
    column_lineage_edges (id) {
        id -> BigInt,
        pipeline_id -> BigInt,
        statement_index -> Integer,
        from_column_id -> BigInt,
        to_column_id -> BigInt,
        kind -> Text,
        expression -> Nullable<Text>,
        json_key -> Nullable<Text>,
    }
}

diesel::joinable!(pipelines -> sources (source_id));
diesel::joinable!(pipeline_statements -> pipelines (pipeline_id));

diesel::table! {
    /// A tag that reached a column through column lineage (derived; see `crate::propagation`).
    propagated_tags (column_id, tag_kind, tag_value) {
        column_id -> BigInt,
        tag_kind -> Text,
        tag_value -> BigInt,
        source_column_id -> BigInt,
        pipeline_id -> BigInt,
        statement_index -> Integer,
        hops -> Integer,
        path -> Text,
    }
}

diesel::table! {
    /// Tags do not flow from `from_column_id` into `to_column_id`.
    lineage_blocks (from_column_id, to_column_id) {
        from_column_id -> BigInt,
        to_column_id -> BigInt,
        reason -> Text,
        blocked_by -> Text,
        blocked_at -> Timestamp,
    }
}

diesel::table! {
    governance_settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    /// GDPR erasure requests (GOVERNANCE.md E1–E4, E19).
    erasure_requests (id) {
        id -> BigInt,
        identifier_type -> Text,
        subject_hmac -> Text,
        sealed_subject -> Nullable<Text>,
        received_on -> Date,
        due_on -> Date,
        original_due_on -> Date,
        extension_reason -> Nullable<Text>,
        extended_by -> Nullable<Text>,
        extended_at -> Nullable<Timestamp>,
        channel -> Text,
        requester_ref -> Nullable<Text>,
        idempotency_key -> Nullable<Text>,
        notes -> Nullable<Text>,
        status -> Text,
        status_reason -> Nullable<Text>,
        submitted_by -> Text,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// One target table of a request's plan, in execution order.
    erasure_steps (id) {
        id -> BigInt,
        request_id -> BigInt,
        position -> Integer,
        source_id -> BigInt,
        dataset_id -> BigInt,
        schema_name -> Text,
        table_name -> Text,
        action -> Text,
        predicate -> Text,
        masks -> Text,
        reached_via -> Text,
        hold_basis -> Nullable<Text>,
        fingerprint -> Text,
        expected_rows -> BigInt,
        status -> Text,
        affected_rows -> BigInt,
        remaining_rows -> Nullable<BigInt>,
        verification -> Nullable<Text>,
        attempts -> Integer,
        error -> Nullable<Text>,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Worker jobs: one per run of a request.
    erasure_runs (id) {
        id -> BigInt,
        request_id -> BigInt,
        mode -> Text,
        status -> Text,
        lease -> Integer,
        claimed_by -> Nullable<Text>,
        heartbeat_at -> Nullable<Timestamp>,
        attempts -> Integer,
        not_before -> Timestamp,
        error -> Nullable<Text>,
        requested_by -> Text,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Recipients to notify of an erasure (E20).
    erasure_notifications (id) {
        id -> BigInt,
        request_id -> BigInt,
        dataset_id -> BigInt,
        recipient -> Text,
        status -> Text,
        updated_by -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Signed receipts of finished requests (E18).
    erasure_receipts (request_id) {
        request_id -> BigInt,
        body -> Text,
        signature -> Text,
        public_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Per-dataset erasure action (delete rows, or mask personal-data columns).
    dataset_erasure_actions (dataset_id) {
        dataset_id -> BigInt,
        action -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Legal holds (Art. 17(3)).
    legal_holds (id) {
        id -> BigInt,
        scope -> Text,
        scope_id -> Nullable<BigInt>,
        identifier_type -> Nullable<Text>,
        subject_hmac -> Nullable<Text>,
        basis -> Text,
        reason -> Text,
        ends_on -> Nullable<Date>,
        created_by -> Text,
        created_at -> Timestamp,
        released_by -> Nullable<Text>,
        released_at -> Nullable<Timestamp>,
        sealed_subject -> Nullable<Text>,
    }
}

diesel::joinable!(erasure_steps -> erasure_requests (request_id));
diesel::joinable!(erasure_steps -> datasets (dataset_id));
diesel::joinable!(erasure_runs -> erasure_requests (request_id));
diesel::joinable!(erasure_notifications -> erasure_requests (request_id));

diesel::table! {
    /// Retention policies (R1).
    retention_policies (id) {
        id -> BigInt,
        name -> Text,
        period -> Text,
        action -> Text,
        mask_columns -> Text,
        legal_basis -> Text,
        description -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Where a retention policy applies: a source, a schema, a dataset or a category.
    retention_assignments (id) {
        id -> BigInt,
        policy_id -> BigInt,
        scope -> Text,
        scope_id -> BigInt,
        schema_name -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// The column that dates a dataset's rows.
    dataset_timestamps (dataset_id) {
        dataset_id -> BigInt,
        column_name -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Purges and their previews (R2).
    retention_runs (id) {
        id -> BigInt,
        mode -> Text,
        status -> Text,
        trigger -> Text,
        as_of -> Timestamp,
        lease -> Integer,
        claimed_by -> Nullable<Text>,
        heartbeat_at -> Nullable<Timestamp>,
        attempts -> Integer,
        not_before -> Timestamp,
        error -> Nullable<Text>,
        requested_by -> Text,
        receipt -> Nullable<Text>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// One dataset of a purge.
    retention_steps (id) {
        id -> BigInt,
        run_id -> BigInt,
        position -> Integer,
        source_id -> BigInt,
        dataset_id -> BigInt,
        schema_name -> Text,
        table_name -> Text,
        policy_id -> BigInt,
        policy_name -> Text,
        period -> Text,
        policy_from -> Text,
        action -> Text,
        timestamp_column -> Nullable<Text>,
        cutoff -> Timestamp,
        predicate -> Text,
        masks -> Text,
        fingerprint -> Text,
        subject_holds -> Text,
        hold_basis -> Nullable<Text>,
        held_rows -> BigInt,
        expected_rows -> BigInt,
        status -> Text,
        affected_rows -> BigInt,
        remaining_rows -> Nullable<BigInt>,
        verification -> Nullable<Text>,
        error -> Nullable<Text>,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(retention_assignments -> retention_policies (policy_id));
diesel::joinable!(retention_steps -> retention_runs (run_id));
diesel::joinable!(dataset_timestamps -> datasets (dataset_id));

diesel::table! {
    /// Runs of a pipeline reported by OpenLineage.
    pipeline_runs (id) {
        id -> BigInt,
        pipeline_id -> BigInt,
        run_id -> Text,
        state -> Text,
        producer -> Text,
        started_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        last_event_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::joinable!(pipeline_runs -> pipelines (pipeline_id));

diesel::table! {
    /// The descriptions dbt last wrote.
    dbt_documentation (object_type, object_id) {
        object_type -> Text,
        object_id -> BigInt,
        description -> Text,
    }
}
