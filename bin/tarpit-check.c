/*
 * NAME
 *	tarpit-check - make clients from new networks wait
 * SYNOPSIS
 *	tarpit-check [-c config_file]
 * DESCRIPTION
 *	Postfix asks at RCPT (check_policy_service in
 *	smtpd_recipient_restrictions).  A network that has not yet escaped
 *	`threshold` times is made to wait `sleep` before the answer DUNNO.
 *	The attempt is recorded before the wait (tarpits) and its completion
 *	after it (pending): only a completed wait can become an escape when
 *	tarpit-store sees the delivery at end of data.  So a wait that smtpd
 *	abandoned (its policy timeout is shorter than `sleep`) earns nothing.
 *	One SMTP session waits once: later requests of the session this
 *	process waited for are answered at once.
 *
 *	The wait holds no lock and no open database, and ends at once when
 *	smtpd closes the policy connection: then nobody is left to answer and
 *	the process exits.
 *
 *	A client with a verified name (client_name) whose domain may share
 *	(decide.c) is judged by its domain's record too, read only when its
 *	network would wait or be greylisted: a domain that vouches lets it
 *	pass, and greylisting is by the domain's tuple, so that a sender's
 *	pool is one sender.  Its waits are counted in the domain's record.
 *
 *	Any fault of ours (database, config) answers DUNNO without a wait: a
 *	bug here must never delay or bounce mail.
 *
 *	The work is check_request()'s (lib/tarpit/check.c), beside decide()
 *	and the ledger, where a table test drives it.
 */
#include "tarpit/check.h"

int main(int argc, char **argv)
{
    return helper_main(argc, argv, "tarpit-check", HELPER_WATCHES, check_request);
}
