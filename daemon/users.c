/*
 * Per-user accounts; see users.h.  A list: a daemon serves a handful of
 * users, and the one just used moves to the front.  Loop thread.
 */
#include "users.h"

#include <stdlib.h>

void users_init(struct users *u)
{
	list_init(&u->accounts);
	u->count = 0;
}

void users_fini(struct users *u)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &u->accounts)
	{
		list_remove(pos);
		free(list_entry(pos, struct user_account, link));
	}
	u->count = 0;
}

struct user_account *users_get(struct users *u, uid_t uid)
{
	struct user_account *a;

	for (struct list *p = u->accounts.next; p != &u->accounts; p = p->next) {
		a = list_entry(p, struct user_account, link);
		if (a->uid != uid)
			continue;
		if (p != u->accounts.next) {
			list_remove(p);
			list_insert_tail(u->accounts.next, p);
		}
		return a;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->uid = uid;
	list_insert_tail(u->accounts.next, &a->link);
	u->count++;
	return a;
}

void users_release(struct users *u, struct user_account *a)
{
	if (!a || a->clients || a->records)
		return;
	list_remove(&a->link);
	free(a);
	u->count--;
}
