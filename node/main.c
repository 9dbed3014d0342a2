/*
 * main.c - the wings executable: no core dumps, then the command line
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "wg_node.h"

int main(int argc, char **argv)
{
    /* Keys and passphrases live in this process: never in a core file. */
    struct rlimit none = { 0, 0 };
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* Everything a node writes is for its operator alone. */
    umask(077);
    return wg_node_main(argc, argv);
}
