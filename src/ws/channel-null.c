/* channel-null.c: the "null" payload: ready at once, input discarded. */
#include "config.h"

#include "ws/socket.h"

static gboolean
null_open (RcChannel *channel, JsonObject *options)
{
  channel_ready (channel, NULL);
  return TRUE;
}

static const ChannelType null_type = {
  .payload = "null",
  .open = null_open,
};

void
channel_null_register (void)
{
  channel_register_type (&null_type);
}
