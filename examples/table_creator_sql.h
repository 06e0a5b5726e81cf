/* examples/table_creator_sql.h -- the reference document's table for the
 * table creator, shared by examples/table_creator.c and its libmariadb peer
 * in perf/ so that both create exactly the same thing. */
#ifndef EXAMPLES_TABLE_CREATOR_SQL_H
#define EXAMPLES_TABLE_CREATOR_SQL_H
#define TABLE_CREATOR_DB "TABLE_CREATOR"
/* printf format: table name prefix (%s), table number (%d). */
#define TABLE_CREATOR_CREATE_FMT                                                                   \
    "CREATE TABLE IF NOT EXISTS %s_%d (\n"                                                          \
    "    dish_id INT(11) UNSIGNED AUTO_INCREMENT UNIQUE KEY,\n"                                     \
    "    category TEXT,\n"                                                                          \
    "    dish_name TEXT,\n"                                                                         \
    "    price FLOAT,\n"                                                                            \
    "    servings INT,\n"                                                                           \
    "    order_time TIME\n"                                                                         \
    ")"
#endif
