DROP TABLE dbt_documentation;
