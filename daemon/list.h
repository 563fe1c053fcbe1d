/* A minimal intrusive doubly linked list, for objects owned by the loop thread. */
#pragma once

#include <stddef.h>

struct list {
	struct list *prev, *next;
};

static inline void list_init(struct list *head)
{
	head->prev = head->next = head;
}

static inline int list_empty(const struct list *head)
{
	return head->next == head;
}

static inline void list_insert_tail(struct list *head, struct list *item)
{
	item->prev = head->prev;
	item->next = head;
	head->prev->next = item;
	head->prev = item;
}

static inline void list_remove(struct list *item)
{
	item->prev->next = item->next;
	item->next->prev = item->prev;
	item->prev = item->next = item;
}

#define list_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Iterates safely against removal of the current item. */
#define list_for_each_safe(pos, tmp, head)                                                         \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                          \
	     (pos) = (tmp), (tmp) = (pos)->next)
