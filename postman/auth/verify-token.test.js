expectVerified({ id: 'user_id', username: 'username', email: 'email' });
