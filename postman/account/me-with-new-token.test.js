expectUserAnswer({ id: 'account_user_id', username: 'account_new_username', email: 'account_new_email' });
