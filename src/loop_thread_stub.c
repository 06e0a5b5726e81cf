/*
 * src/loop_thread_stub.c -- TEMPORARY: a stand-in for the engine's
 * ur_loop_check_thread() until uring/ provides it (engine-v2). It lets
 * every thread use every loop, as before. Delete this file when merging the
 * engine branch.
 */
#include "../uring/ur.h"

int ur_loop_check_thread(const ur_loop *l)
{
    (void)l;
    return 0;
}
