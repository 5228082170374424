/*
 * ABI test: string literals and constant data.
 * Covers: literals as pointers and as array initialisers (copied, then modified), arrays of
 * pointers to literals, 2-D char arrays, escape sequences and embedded NULs (sizeof vs
 * strlen), adjacent-literal concatenation, long literals, wide/UTF-8/UTF-16/UTF-32 literals
 * (values printed as numbers), literals returned from functions and stored in structs, and
 * __func__.  Never prints whether two equal literals share storage (compilers may differ).
 */
#include <stdio.h>
#include <string.h>
#include <uchar.h>
#include <wchar.h>

static const char *const weekdays[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"};
static const char grid[3][6] = {"alpha", "beta", "gamma"};
static char editable[] = "edit me";

struct message {
    int code;
    const char *text;
};

static const struct message messages[] = {
    {200, "OK"}, {404, "Not Found"}, {500, "Internal Server Error"},
};

static const char *describe(int code)
{
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
        if (messages[i].code == code)
            return messages[i].text;
    return "unknown";
}

static const char *function_name(void)
{
    return __func__;
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

int main(void)
{
    for (int i = 0; i < 5; i++)
        printf("weekday %d: %s (%zu)\n", i, weekdays[i], strlen(weekdays[i]));
    for (int i = 0; i < 3; i++)
        printf("grid %d: %s\n", i, grid[i]);

    editable[0] = 'E';
    char local[] = "local copy";
    local[0] = 'L';
    printf("copies: %s / %s\n", editable, local);

    static const char escapes[] = "tab\there\nnewline \"quoted\" \\ \x41\101\0hidden";
    printf("escapes: sizeof=%zu strlen=%zu after-nul=%s\n", sizeof escapes, strlen(escapes),
           escapes + strlen(escapes) + 1);
    const char *joined = "con" "cat" "en" "ation";
    printf("joined: %s\n", joined);
    const char *long_text =
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
        "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.";
    printf("long: len=%zu hash=%08x\n", strlen(long_text), hash(long_text));

    const wchar_t *wide = L"wide\u00e9";
    printf("wide: len=%zu last=%u\n", wcslen(wide), (unsigned)wide[4]);
    const char *utf8 = u8"caf\u00e9";
    printf("utf8: bytes=%zu %02x %02x\n", strlen(utf8), (unsigned char)utf8[3],
           (unsigned char)utf8[4]);
    const char16_t utf16[] = u"\u00e9\U0001F600";
    printf("utf16: units=%zu %04x %04x %04x\n", sizeof utf16 / sizeof utf16[0] - 1,
           (unsigned)utf16[0], (unsigned)utf16[1], (unsigned)utf16[2]);
    const char32_t utf32[] = U"\U0001F600!";
    printf("utf32: %x %x\n", (unsigned)utf32[0], (unsigned)utf32[1]);

    printf("messages: %s | %s | %s\n", describe(404), describe(200), describe(302));
    printf("func: %s %s\n", function_name(), __func__);
    printf("literal index: %c%c%c\n", "abcdef"[1], "xyz"[2], ("q" "r")[1]);
    return 0;
}
