/*
 * Uses every area of C library state a program can hold across a move, then uses each again.
 * Run with POPCORN_MIGRATE_AT set, the move happens somewhere in between (or inside one of the
 * calls); stdout must be the same as an unmoved run's. Each area keeps pointers into libc's own
 * data or state that libc reads back later: locale (localeconv's strings), time zone (tzname,
 * the parsed rules), stdio (a FILE in the middle of a buffered read and write, ungetc), the
 * environment (setenv's copies), atexit handlers, getopt's cursor, random's state, an open
 * directory stream, and a signal handler.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t signals_seen;
static void on_signal(int signal) { signals_seen += signal; }

static void say_goodbye(void) { printf("atexit handler runs, signals %d\n", (int)signals_seen); }

static void show_locale(const char *when)
{
    struct lconv *conventions = localeconv();
    char text[64];
    snprintf(text, sizeof text, "%.3f %g %g", 1234.5678, 0.000125, 6.02e23);
    printf("%s: locale %s, decimal point '%s', thousands '%s', %s, strtod %.2f\n", when,
           setlocale(LC_ALL, NULL), conventions->decimal_point, conventions->thousands_sep, text,
           strtod("2.75", NULL));
}

static void show_time(const char *when)
{
    time_t moment = 1700000000; /* 2023-11-14 22:13:20 UTC */
    struct tm local;
    localtime_r(&moment, &local);
    char text[96];
    strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S %Z %z %A %B", &local);
    printf("%s: %s, tzname %s/%s, mktime round trip %s\n", when, text, tzname[0], tzname[1],
           mktime(&local) == moment ? "ok" : "wrong");
}

int main(int argc, char **argv)
{
    /* Locale: C.UTF-8 replaces the global locale object; its strings live in libc's data. */
    show_locale("before");
    setlocale(LC_ALL, "C.UTF-8");
    show_locale("set");

    /* Time zone: parsed from TZ into libc's static state. */
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    show_time("before");

    /* Environment: setenv keeps its own copies, putenv the caller's string. */
    static char assignment[] = "POPCORN_AREA_PUT=kept";
    setenv("POPCORN_AREA_SET", "copied", 1);
    putenv(assignment);

    /* atexit: the handler list is libc's. */
    atexit(say_goodbye);

    /* getopt: optind and the cursor inside a grouped option stay in libc's globals. */
    char *options[] = {"prog", "-ab", "-c", "value", "rest", NULL};
    int count = 5;
    optind = 1;
    int first = getopt(count, options, "abc:");
    printf("getopt first %c optind %d\n", first, optind);

    /* random: the generator's state is libc's. */
    srandom(12345);
    long r1 = random();
    srand(777);
    int r2 = rand();
    printf("random %ld rand %d\n", r1, r2);

    /* stdio: a file half read (with a pushed-back character) and half written, both buffered. */
    FILE *out = tmpfile();
    fputs("alpha beta gamma delta\n", out);
    fprintf(out, "%d %s\n", 42, "forty-two");
    rewind(out);
    char word[32];
    if (fscanf(out, "%31s", word) != 1) return 1;
    int c = fgetc(out);
    ungetc(c, out);
    printf("stdio first word %s, pushed back '%c'\n", word, c);
    FILE *log = tmpfile();
    setvbuf(log, NULL, _IOFBF, 4096);
    fputs("buffered line one\n", log);

    /* dirent: a directory stream in the middle of a listing. */
    /* A fresh directory under $TMPDIR (or /tmp), as mkdtemp(3) wants its template. */
    const char *temporary = getenv("TMPDIR");
    char directory[256];
    snprintf(directory, sizeof directory, "%s/popcorn-areas-" "XXXXXX", temporary && *temporary ? temporary : "/tmp");
    if (!mkdtemp(directory)) return 1;
    const char *names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", directory, names[i]);
        FILE *f = fopen(path, "w");
        fclose(f);
    }
    DIR *listing = opendir(directory);
    int entries = 0;
    struct dirent *entry;
    while ((entry = readdir(listing)) && entries < 2)
        if (entry->d_name[0] != '.') entries++;

    /* signal: a handler installed through sigaction. */
    struct sigaction action = {0};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR1, &action, NULL);
    raise(SIGUSR1);

    /* Work between the two halves, with migration points in the program and in libc. */
    unsigned long long mix = 0;
    for (int round = 0; round < 200; round++) {
        char text[64];
        snprintf(text, sizeof text, "%d:%g", round, round / 7.0);
        mix = mix * 31 + strlen(text) + (unsigned long long)strtol(text, NULL, 10);
        char *copy = strdup(text);
        mix += (unsigned char)copy[0];
        free(copy);
    }
    printf("work %llu\n", mix);

    /* Every area again. */
    show_locale("after");
    show_time("after");
    printf("environment %s %s %s\n", getenv("POPCORN_AREA_SET"), getenv("POPCORN_AREA_PUT"), getenv("TZ"));
    int second = getopt(count, options, "abc:");
    int third = getopt(count, options, "abc:");
    printf("getopt then %c %c(%s) optind %d\n", second, third, optarg, optind);
    printf("random %ld rand %d\n", random(), rand());
    if (fscanf(out, "%31s", word) != 1) return 1;
    printf("stdio next word %s\n", word);
    fputs("buffered line two\n", log);
    rewind(log);
    char line[64];
    while (fgets(line, sizeof line, log)) printf("log: %s", line);
    fclose(log);
    fclose(out);
    while ((entry = readdir(listing)))
        if (entry->d_name[0] != '.') entries++;
    closedir(listing);
    printf("directory entries %d\n", entries);
    for (int i = 0; i < 4; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", directory, names[i]);
        unlink(path);
    }
    rmdir(directory);
    raise(SIGUSR1);
    printf("signals %d\n", (int)signals_seen);
    (void)argc;
    (void)argv;
    return 0;
}
