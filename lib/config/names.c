/* names.c: the xl.cfg spelling of the model's enums, formats and MACs */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cfg.h"

#define TO(tab, v) keel__enum_to_name(tab, ARRAY_SIZE(tab), v)
#define FROM(tab, s) keel__enum_from_name(tab, ARRAY_SIZE(tab), s)

static const struct keel__enum_name actions[] = {
    {KEEL_ACTION_DESTROY, "destroy"},
    {KEEL_ACTION_RESTART, "restart"},
    {KEEL_ACTION_RENAME_RESTART, "rename-restart"},
    {KEEL_ACTION_PRESERVE, "preserve"},
    {KEEL_ACTION_COREDUMP_DESTROY, "coredump-destroy"},
    {KEEL_ACTION_COREDUMP_RESTART, "coredump-restart"},
    {KEEL_ACTION_SOFT_RESET, "soft-reset"},
};

static const struct keel__enum_name events[] = {
    {KEEL_ON_POWEROFF, "on_poweroff"},     {KEEL_ON_REBOOT, "on_reboot"},
    {KEEL_ON_WATCHDOG, "on_watchdog"},     {KEEL_ON_CRASH, "on_crash"},
    {KEEL_ON_SOFT_RESET, "on_soft_reset"},
};

static const struct keel__enum_name tsc_modes[] = {
    {KEEL_TSC_DEFAULT, "default"},
    {KEEL_TSC_ALWAYS_EMULATE, "always_emulate"},
    {KEEL_TSC_NATIVE, "native"},
    {KEEL_TSC_NATIVE_PARAVIRT, "native_paravirt"},
};

static const struct keel__enum_name disk_formats[] = {
    {KEEL_DISK_FORMAT_RAW, "raw"},     {KEEL_DISK_FORMAT_QCOW, "qcow"},
    {KEEL_DISK_FORMAT_QCOW2, "qcow2"}, {KEEL_DISK_FORMAT_VHD, "vhd"},
    {KEEL_DISK_FORMAT_QED, "qed"},     {KEEL_DISK_FORMAT_EMPTY, "empty"},
};

static const struct keel__enum_name backendtypes[] = {
    {KEEL_DISK_BACKEND_PHY, "phy"},
    {KEEL_DISK_BACKEND_TAP, "tap"},
    {KEEL_DISK_BACKEND_QDISK, "qdisk"},
    {KEEL_DISK_BACKEND_STANDALONE, "standalone"},
};

static const struct keel__enum_name formats[] = {
    {KEEL_CONFIG_XL, "xl"},
    {KEEL_CONFIG_JSON, "json"},
    {KEEL_CONFIG_XML, "xml"},
    {KEEL_CONFIG_XL, "cfg"},
};

KEEL_EXPORT const char *
keel_action_name(enum keel_action action)
{
    return TO(actions, action);
}

KEEL_EXPORT int
keel_action_parse(const char *name)
{
    return FROM(actions, name);
}

KEEL_EXPORT const char *
keel_event_name(enum keel_event event)
{
    return TO(events, event);
}

KEEL_EXPORT const char *
keel_tsc_mode_name(enum keel_tsc_mode mode)
{
    return TO(tsc_modes, mode);
}

KEEL_EXPORT int
keel_tsc_mode_parse(const char *name)
{
    return FROM(tsc_modes, name);
}

KEEL_EXPORT const char *
keel_disk_format_name(enum keel_disk_format format)
{
    return TO(disk_formats, format);
}

KEEL_EXPORT int
keel_disk_format_parse(const char *name)
{
    return FROM(disk_formats, name);
}

KEEL_EXPORT const char *
keel_disk_backendtype_name(enum keel_disk_backendtype type)
{
    return TO(backendtypes, type);
}

KEEL_EXPORT int
keel_disk_backendtype_parse(const char *name)
{
    return FROM(backendtypes, name);
}

KEEL_EXPORT int
keel_config_format_parse(const char *name)
{
    return FROM(formats, name);
}

KEEL_EXPORT const char *
keel_config_format_name(enum keel_config_format format)
{
    return TO(formats, format);
}

KEEL_EXPORT int
keel_mac_parse(const char *text, uint8_t mac[6])
{
    uint8_t out[6];
    int i, hi, lo;

    if (!text)
        return KEEL_EINVAL;
    for (i = 0; i < 6; i++, text += 3) {
        hi = keel__hexval(text[0]);
        lo = hi < 0 ? -1 : keel__hexval(text[1]);
        if (lo < 0 || text[2] != (i == 5 ? '\0' : ':'))
            return KEEL_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(mac, out, 6);
    return 0;
}

KEEL_EXPORT void
keel_mac_format(const uint8_t mac[6], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
             mac[3], mac[4], mac[5]);
}
