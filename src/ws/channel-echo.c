/* channel-echo.c: the "echo" payload: every payload frame comes back
 * unchanged; "done" is answered with "done". */
#include "config.h"

#include "ws/socket.h"

static gboolean
echo_open (RcChannel *channel, JsonObject *options)
{
  channel_ready (channel, NULL);
  return TRUE;
}

static void
echo_recv (RcChannel *channel, GBytes *payload)
{
  gsize len;
  gconstpointer data = g_bytes_get_data (payload, &len);
  channel_send (channel, data, len);
}

static void
echo_control (RcChannel *channel, const gchar *command, JsonObject *message)
{
  if (g_str_equal (command, "done"))
    channel_send_control (channel, "done", NULL);
}

static const ChannelType echo_type = {
  .payload = "echo",
  .open = echo_open,
  .recv = echo_recv,
  .control = echo_control,
};

void
channel_echo_register (void)
{
  channel_register_type (&echo_type);
}
